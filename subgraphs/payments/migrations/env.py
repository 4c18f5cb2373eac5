from shared.migrations import run_env
from subgraphs.payments.models import Base

run_env(Base.metadata)
