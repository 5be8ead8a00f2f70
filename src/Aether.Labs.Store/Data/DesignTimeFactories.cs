using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Aether.Labs.Store.Data;

/// <summary>What <c>dotnet ef migrations add --context SqliteLabDbContext</c> builds the model with (it never
/// connects).</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteLabDbContext>
{
    public SqliteLabDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteLabDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>What <c>dotnet ef migrations add --context PostgresLabDbContext</c> builds the model with (it never
/// connects).</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresLabDbContext>
{
    public PostgresLabDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresLabDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
