"""recon: reconcile a cloud provider's invoice against a reseller's billing records."""

__version__ = "0.1.0"
