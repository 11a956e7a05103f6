"""The one MetaData every table voicehook owns is declared on (`records.schema` gathers them)."""

from sqlalchemy import MetaData

metadata = MetaData()
