# nothing runs when a line is wrong: the echo below prints nothing
echo msg=hello
frobnicate level=3
