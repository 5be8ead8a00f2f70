using System.Text;

namespace Aether.Ovsdb;

/// <summary>
/// An error ovsdb-server reported: a JSON-RPC error reply, or an operation of a transaction that failed (RFC 7047
/// section 4.1.3): <c>transact Open_vSwitch: operation 2 (insert Port p1): constraint violation: Transaction causes
/// multiple rows in "Port" table to have identical values…</c>. <see cref="Error"/> and <see cref="Details"/> are the
/// server's own text.
/// </summary>
public class OvsdbException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="error">The server's <c>error</c> (<c>constraint violation</c>, <c>timed out</c>, <c>unknown database</c>).</param>
    /// <param name="details">The server's <c>details</c>, when it gave any.</param>
    /// <param name="method">The request's method (<c>transact</c>).</param>
    /// <param name="operationIndex">In a transaction, the failed operation's index; the commit's failure has the
    /// index one past the last operation.</param>
    /// <param name="operation">What the failed operation was for, as its transaction described it.</param>
    public OvsdbException(string error, string? details, string? method = null, int? operationIndex = null, string? operation = null)
        : base(Format(error, details, method, operationIndex, operation))
    {
        Error = error;
        Details = details;
        Method = method;
        OperationIndex = operationIndex;
        Operation = operation;
    }

    /// <summary>The server's <c>error</c> string.</summary>
    public string Error { get; }

    /// <summary>The server's <c>details</c>, or null.</summary>
    public string? Details { get; }

    /// <summary>The request's method, when known.</summary>
    public string? Method { get; }

    /// <summary>The failed operation's index in its transaction (one past the last for the commit), or null.</summary>
    public int? OperationIndex { get; }

    /// <summary>What the failed operation was for, or null.</summary>
    public string? Operation { get; }

    private static string Format(string error, string? details, string? method, int? index, string? operation)
    {
        var sb = new StringBuilder();
        if (method is not null)
        {
            sb.Append(method).Append(": ");
        }

        if (index is int i)
        {
            sb.Append("operation ").Append(i);
            if (operation is not null)
            {
                sb.Append(" (").Append(operation).Append(')');
            }

            sb.Append(": ");
        }

        sb.Append(error);
        if (!string.IsNullOrEmpty(details))
        {
            sb.Append(": ").Append(details);
        }

        return sb.ToString();
    }
}

/// <summary>
/// ovsdb-server could not be reached, or the connection to it was lost. When connecting failed, the message says
/// where the client looked, why (<c>ENOENT</c>, <c>ECONNREFUSED</c>), and how to start Open vSwitch.
/// </summary>
public sealed class OvsdbConnectionException : IOException
{
    /// <summary>Creates the exception.</summary>
    public OvsdbConnectionException(string message, OvsdbEndpoint endpoint, string? errno = null, Exception? inner = null)
        : base(message, inner)
    {
        Endpoint = endpoint;
        Errno = errno;
    }

    /// <summary>Where the client looked.</summary>
    public OvsdbEndpoint Endpoint { get; }

    /// <summary>The failure's errno name (<c>ENOENT</c>, <c>ECONNREFUSED</c>, <c>EACCES</c>), or null when the
    /// connection was lost rather than refused.</summary>
    public string? Errno { get; }
}

/// <summary>The server sent something that is not what RFC 7047 says (malformed JSON, a reply without an id, a row
/// without a column that was asked for).</summary>
public sealed class OvsdbProtocolException : IOException
{
    /// <summary>Creates the exception.</summary>
    public OvsdbProtocolException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
