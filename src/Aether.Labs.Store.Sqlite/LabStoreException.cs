namespace Aether.Labs.Store;

/// <summary>
/// A store operation failed in the database: which store (<see cref="Location"/>, never with a password), what it was
/// doing (<see cref="Operation"/>) and what the database said (<see cref="SqlState"/> and the server's message, or
/// SQLite's, or the connection error), in the manner of Npgsql's <c>PostgresException</c>.
/// </summary>
public sealed class LabStoreException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="location">The store (<c>postgres://user@host:port/db</c> or the SQLite file).</param>
    /// <param name="operation">What the store was doing (<c>save lab 'x'</c>).</param>
    /// <param name="detail">What the database said.</param>
    /// <param name="sqlState">PostgreSQL's SQLSTATE, or SQLite's error code as text, or null.</param>
    /// <param name="inner">The database's exception.</param>
    public LabStoreException(string location, string operation, string detail, string? sqlState, Exception? inner)
        : base($"lab store {location}: {operation}: {detail}", inner)
    {
        Location = location;
        Operation = operation;
        Detail = detail;
        SqlState = sqlState;
    }

    /// <summary>The store: <c>postgres://user@host:port/db</c> (never the password) or the SQLite file's full path.</summary>
    public string Location { get; }

    /// <summary>What the store was doing.</summary>
    public string Operation { get; }

    /// <summary>What the database (or the connection) said.</summary>
    public string Detail { get; }

    /// <summary>PostgreSQL's SQLSTATE (<c>23505</c>), SQLite's extended error code as text, or null.</summary>
    public string? SqlState { get; }
}
