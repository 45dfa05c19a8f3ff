# pgsizes= is a list of 4K, 2M and 1G.
pt-create name=p fmt=x86-64 pgsizes=4K,3M
