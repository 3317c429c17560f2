"""Resources: typed connections to the platform's servers, configured in one place."""
