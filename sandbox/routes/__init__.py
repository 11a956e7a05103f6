"""HTTP routes: the API (`/v1`), signed downloads (`/files`) and the control API (`/sandbox`)."""
