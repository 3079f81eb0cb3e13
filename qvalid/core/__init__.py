"""Pure numerical kernels (numpy/scipy only), batch-aware over leading dimensions."""
