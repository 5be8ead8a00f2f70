using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Aether.Labs.Cluster.Data;

/// <summary>What <c>dotnet ef migrations add --context ClusterDbContext</c> builds the model with (it never
/// connects).</summary>
internal sealed class ClusterDesignTimeFactory : IDesignTimeDbContextFactory<ClusterDbContext>
{
    public ClusterDbContext CreateDbContext(string[] args) =>
        new(ClusterStore.Options(new DbContextOptionsBuilder<ClusterDbContext>(), "Host=localhost;Database=design").Options);
}
