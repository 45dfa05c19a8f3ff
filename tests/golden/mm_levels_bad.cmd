# An mm has 4 or 5 levels.
mm-create name=mm levels=6
