# A '$' that does not start $NAME.FIELD is a syntax error: the file is
# refused before anything runs (no output).
echo msg="runs only if the whole file is well formed"
echo msg="a quoted $ is literal: $x.y"
echo msg=$x
