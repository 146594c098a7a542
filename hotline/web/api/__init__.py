"""HTTP controllers: parse, call a service, return. Business rules live in the service modules."""
