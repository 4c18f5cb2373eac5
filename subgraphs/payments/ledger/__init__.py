"""The double-entry ledger: postings for every money movement (`postings.py`), appended to a
hash chain in the caller's transaction (`chain.py`), verified in batches (`verify.py`), read as
vendor balances (`balances.py`) and financial reports (`reports.py`). See docs/ledger.md."""
