# Nothing may follow a closing quote but a blank or a comment.
echo msg="ab"cd
