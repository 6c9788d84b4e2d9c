"""After the registration, for the village: the portal's list of recipients, reports about a
listed household, proposals (usulan) for unregistered ones, and the village meeting report."""
