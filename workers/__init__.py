"""arq worker: thin jobs that call hotline's services."""
