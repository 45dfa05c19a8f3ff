# The last command fails with no `expect err=` after it: the run says so.
echo msg=start
iommu-create name=io ias=20
