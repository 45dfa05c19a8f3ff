# Library messages go to the context's sink, filtered by level.
log-level level=info
log msg="visible at info"
log level=debug msg="hidden at info"
log-level level=debug
log level=debug msg="now visible"
