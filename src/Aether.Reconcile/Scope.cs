using Aether.Netlink.Namespaces;

namespace Aether.Reconcile;

/// <summary>
/// Where an object lives: the host (the controller's own network namespace) or a named network namespace. Two
/// scopes are equal when both are the host or both name the same namespace. People read it as <c>host</c> or the
/// namespace's name; names of objects in it are qualified as <c>blue/veth0</c> (unqualified in the host).
/// </summary>
public readonly struct Scope : IEquatable<Scope>
{
    private readonly string? _name;

    private Scope(string name) => _name = name;

    /// <summary>The host: the namespace the controller runs in.</summary>
    public static Scope Host => default;

    /// <summary>Whether this is the host.</summary>
    public bool IsHost => _name is null;

    /// <summary>The namespace's name, or null for the host.</summary>
    public string? Name => _name;

    /// <summary>The network namespace called <paramref name="name"/> (a name under <c>/run/netns</c>, or another
    /// reference people know it by, such as a container's).</summary>
    public static Scope Namespace(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new Scope(name);
    }

    /// <summary>The scope of <paramref name="ns"/>: the host for null, else its name (or its path when it has
    /// none).</summary>
    public static Scope Of(NetworkNamespace? ns) => ns is null ? Host : new Scope(ns.ToString());

    /// <summary>A name in this scope as people write it: <c>veth0</c> in the host, <c>blue/veth0</c> elsewhere.</summary>
    public string Qualify(string name) => _name is null ? name : _name + "/" + name;

    /// <summary>The scope after <c>in</c>: <c>the host</c>, or the namespace's name.</summary>
    public string Describe() => _name ?? "the host";

    /// <inheritdoc/>
    public bool Equals(Scope other) => string.Equals(_name, other._name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Scope other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _name is null ? 0 : StringComparer.Ordinal.GetHashCode(_name);

    /// <summary><c>host</c>, or the namespace's name.</summary>
    public override string ToString() => _name ?? "host";

    /// <summary>Whether two scopes are the same.</summary>
    public static bool operator ==(Scope left, Scope right) => left.Equals(right);

    /// <summary>Whether two scopes differ.</summary>
    public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
}
