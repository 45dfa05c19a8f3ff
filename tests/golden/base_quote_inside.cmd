# A quote may only open a value.
echo msg=ab"cd"
