"""Provisioning adapters behind the ``Provisioner`` port: cPanel's WHM API 1 and the simulated control panel."""
