namespace Aether.Labs.Store;

/// <summary>The database behind a <see cref="LabStore"/>.</summary>
public enum LabStoreProvider
{
    /// <summary>A SQLite file (one host).</summary>
    Sqlite,

    /// <summary>A PostgreSQL database (agents on several hosts).</summary>
    Postgres,
}
