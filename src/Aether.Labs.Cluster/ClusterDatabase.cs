using Npgsql;

namespace Aether.Labs.Cluster;

/// <summary>The <c>--db</c> argument of the agent and the controller, read as Npgsql connection settings.</summary>
internal static class ClusterDatabase
{
    private const string Forms = "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or a PostgreSQL connection string (Host=...;Database=...)";

    /// <summary>A <c>postgres://</c> (or <c>postgresql://</c>) URL, or an Npgsql connection string.</summary>
    /// <exception cref="ArgumentException">Neither, or no host.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string? database)
    {
        database = database?.Trim();
        if (string.IsNullOrEmpty(database))
        {
            throw new ArgumentException("database: empty; expected " + Forms, nameof(database));
        }

        NpgsqlConnectionStringBuilder builder;
        if (database.StartsWith("postgres://", StringComparison.Ordinal) || database.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(database, UriKind.Absolute, out var uri))
            {
                throw new ArgumentException("database: not a URL; expected " + Forms, nameof(database));
            }

            builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Length > 0 ? uri.Host : null };
            var user = uri.UserInfo.Split(':', 2);
            if (user[0].Length > 0)
            {
                builder.Username = Uri.UnescapeDataString(user[0]);
            }

            if (user.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(user[1]);
            }

            if (!uri.IsDefaultPort && uri.Port > 0)
            {
                builder.Port = uri.Port;
            }

            var name = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
            builder.Database = name.Length > 0 ? name : builder.Username;
        }
        else if (database.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(database);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"database connection string: {ex.Message}", nameof(database), ex);
            }
        }
        else
        {
            throw new ArgumentException("database: expected " + Forms, nameof(database));
        }

        return string.IsNullOrEmpty(builder.Host)
            ? throw new ArgumentException("database names no host; expected " + Forms, nameof(database))
            : builder;
    }
}
