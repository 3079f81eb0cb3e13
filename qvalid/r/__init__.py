"""The R side: the rpy2 session (started only when a function here is called), qmethod and qmboots runs and their
conversion to qvalid's objects, and the R code they send (one ``.R`` file, shared with
``reference/golden/make_golden.R``). Importing this package does not start R or import rpy2.
"""
