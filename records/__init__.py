"""Every read and write of the database: the schema, its migrations, and one repository
module per aggregate (see the README's architecture section)."""
