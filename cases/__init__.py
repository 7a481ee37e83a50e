"""The domain: key projects (cases) and everything recorded about them."""
