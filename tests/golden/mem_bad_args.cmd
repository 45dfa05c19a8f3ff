# Bad input to a mem verb stops the run with a message naming the line.
mem-create name=m
mem-write mem=m pa=0 data=abc
