echo msg=start
trace-emit event=attach_device_to_domain
echo msg="not reached"
