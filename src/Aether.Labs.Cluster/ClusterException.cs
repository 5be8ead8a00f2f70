namespace Aether.Labs.Cluster;

/// <summary>
/// A cluster store operation failed in the database: which database (<see cref="Location"/>, never with a password),
/// what it was doing (<see cref="Operation"/>) and what the server said (<see cref="SqlState"/>, its message and
/// detail), or the connection error.
/// </summary>
public sealed class ClusterException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="location">The database (<c>postgres://user@host:port/db</c>).</param>
    /// <param name="operation">What the store was doing (<c>attach link 'l1'</c>).</param>
    /// <param name="detail">What the database said.</param>
    /// <param name="sqlState">PostgreSQL's SQLSTATE, or null for a connection error.</param>
    /// <param name="inner">The database's exception.</param>
    public ClusterException(string location, string operation, string detail, string? sqlState, Exception? inner)
        : base($"cluster store {location}: {operation}: {detail}", inner)
    {
        Location = location;
        Operation = operation;
        Detail = detail;
        SqlState = sqlState;
    }

    /// <summary>The database: <c>postgres://user@host:port/db</c>.</summary>
    public string Location { get; }

    /// <summary>What the store was doing.</summary>
    public string Operation { get; }

    /// <summary>What the database (or the connection) said.</summary>
    public string Detail { get; }

    /// <summary>PostgreSQL's SQLSTATE (<c>23503</c>), or null.</summary>
    public string? SqlState { get; }
}
