"""Open311 GeoReport v2 (issue 12): civic-tech clients (FixMyStreet, SeeClickFix, city apps) list our services,
submit service requests as `web` tickets through the one intake, and follow them; nothing personal is answered.

`keys` owns the integration accounts' API keys, `catalogue` the services and their definitions, `requests` the
service requests (submit, query), `shapes` the answers as the spec names their fields, `xml` their XML form.
"""
