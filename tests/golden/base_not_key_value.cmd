# Arguments are KEY=VALUE.
echo hello
