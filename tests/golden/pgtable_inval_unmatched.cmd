# An invalidate-end must match an open invalidate-begin of the same range
# (the library cannot check it: an unmatched end is a caller bug there).
# The CLI refuses it as bad input: the run stops, nothing changed.
pt-create name=t fmt=arm-lpae-s1
pt-invalidate-begin pt=t iova=0x200000 size=2M
pt-invalidate-end pt=t iova=0x200000 size=4K
