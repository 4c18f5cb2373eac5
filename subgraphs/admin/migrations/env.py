from shared.migrations import run_env
from subgraphs.admin.models import Base

run_env(Base.metadata)
