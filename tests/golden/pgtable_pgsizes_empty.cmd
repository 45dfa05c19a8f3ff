# pgsizes= must name at least one size.
pt-create name=p fmt=x86-64 pgsizes=,
