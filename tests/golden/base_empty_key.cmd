# An argument needs a key.
echo =hello
