"""新兴领域党建覆盖: carriers, emerging-sector organisations, coverage figures and gaps."""
