"""HTTP helpers shared by the routes: dependencies (session, current staff, role guards, CSRF), rendering (page or htmx fragment), middleware, forms, uploads, table exports."""
