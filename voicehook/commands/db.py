"""`voicehook db`: schema migrations."""

import typer

from config.database import make_engine
from config.settings import Settings
from records import migrate

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    engine = make_engine(Settings())
    migrate.upgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target, e.g. -1 or base.")) -> None:
    """Revert migrations down to REVISION."""
    engine = make_engine(Settings())
    migrate.downgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


@app.command()
def current() -> None:
    """Print the schema revision the database is at, and the newest one."""
    engine = make_engine(Settings())
    typer.echo(f"current={migrate.current_revision(engine)} head={migrate.head_revision()}")
