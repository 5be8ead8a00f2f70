using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Aether.Labs.Store;

/// <summary>The <c>--db</c> argument, read: which provider, its connection string, and how errors name the store
/// (<see cref="Location"/>: a URL without the password, or the file).</summary>
internal sealed record LabDatabase(LabStoreProvider Provider, string ConnectionString, string Location)
{
    /// <summary>The SQLite file in the state directory when no database is named.</summary>
    public const string DefaultFileName = SqliteLabStore.DefaultFileName;

    private const string Forms = "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, a PostgreSQL connection string (Host=...;Database=...), sqlite:PATH, or nothing for STATE/labs.db";

    /// <summary>Reads <paramref name="database"/>: null or empty → <c>STATE/labs.db</c>; <c>postgres://</c> or
    /// <c>postgresql://</c> URLs and <c>Host=...;</c> connection strings → PostgreSQL; <c>sqlite:PATH</c> → that
    /// file.</summary>
    /// <exception cref="ArgumentException">None of those forms, or a malformed one (the message says which part).</exception>
    public static LabDatabase Parse(string? database, string stateDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        if (SqliteLabStore.TryFile(database, stateDirectory, out var file))
        {
            return new LabDatabase(LabStoreProvider.Sqlite, SqliteLabStore.ConnectionString(file), file);
        }

        database = database!.Trim();

        if (database.StartsWith("postgres://", StringComparison.Ordinal) || database.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return Postgres(FromUrl(database));
        }

        if (database.Contains('=', StringComparison.Ordinal))
        {
            NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = new NpgsqlConnectionStringBuilder(database);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"database connection string: {ex.Message}", nameof(database), ex);
            }

            return string.IsNullOrEmpty(builder.Host)
                ? throw new ArgumentException("database connection string names no Host: expected " + Forms, nameof(database))
                : Postgres(builder);
        }

        throw new ArgumentException($"database '{Redact(database)}' is none of: {Forms}", nameof(database));
    }

    private static LabDatabase Postgres(NpgsqlConnectionStringBuilder builder)
    {
        builder.Port = builder.Port == 0 ? 5432 : builder.Port;
        builder.IncludeErrorDetail = true; // the server's DETAIL in errors (which key, which row): the store holds no secrets
        var location = string.Create(CultureInfo.InvariantCulture, $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}");
        return new LabDatabase(LabStoreProvider.Postgres, builder.ConnectionString, location);
    }

    /// <summary>A libpq-style URL: user and password percent-decoded, the database defaulting to the user, a few query
    /// parameters (<c>host</c> for a socket directory, <c>sslmode</c>, <c>connect_timeout</c>,
    /// <c>application_name</c>).</summary>
    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"database '{Redact(url)}' is not a URL: expected {Forms}", nameof(url));
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var user = uri.UserInfo.Split(':', 2);
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        builder.Host = uri.Host.Length > 0 ? uri.Host : null;
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        var name = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        builder.Database = name.Length > 0 ? name : builder.Username;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.IndexOf('=', StringComparison.Ordinal) is var i and >= 0
                ? (Uri.UnescapeDataString(pair[..i]), Uri.UnescapeDataString(pair[(i + 1)..]))
                : (Uri.UnescapeDataString(pair), "");
            try
            {
                SetParameter(builder, key, value);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
            {
                throw new ArgumentException($"database URL parameter '{key}={value}': {ex.Message}", nameof(url), ex);
            }
        }

        return string.IsNullOrEmpty(builder.Host)
            ? throw new ArgumentException($"database '{Redact(url)}' names no host", nameof(url))
            : builder;
    }

    private static void SetParameter(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        switch (key)
        {
            case "host":
                builder.Host = value;
                break;
            case "sslmode":
                builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
                break;
            case "connect_timeout":
                builder.Timeout = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            default:
                throw new ArgumentException("not understood (host, sslmode, connect_timeout, application_name are)", nameof(key));
        }
    }

    /// <summary>The text without what could be a password (<c>user:secret@</c> → <c>user:***@</c>,
    /// <c>Password=x</c> → <c>Password=***</c>).</summary>
    private static string Redact(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (at > 0 && scheme >= 0 && text.IndexOf(':', scheme + 3) is var colon and > 0 && colon < at)
        {
            text = text[..(colon + 1)] + "***" + text[at..];
        }

        return text;
    }
}
