echo msg="this line is fine"
echo msg="unterminated
