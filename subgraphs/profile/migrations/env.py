from shared.migrations import run_env
from subgraphs.profile.models import Base

run_env(Base.metadata)
