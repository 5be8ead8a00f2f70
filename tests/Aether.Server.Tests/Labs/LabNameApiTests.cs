namespace Aether.Server.Tests.Labs;

/// <summary>Names with meaning reaching the daemon's lab API: 400 naming the field, the reason and what is allowed,
/// no character that acts on a terminal in the message, and nothing made.</summary>
public sealed class LabNameApiTests : LabApiTest
{
    protected override bool Runtimes => false;

    [Theory]
    [InlineData("h1:eth%d", "'%' (U+0025) is not allowed in an interface name (the kernel reads it as a template")]
    [InlineData("h1:eth*", "'*' (U+002A) is not allowed in an interface name (nftables reads a trailing '*' as a wildcard")]
    [InlineData("h1:eth\\e[31m", "U+001B is not allowed in an interface name (ESC")]
    [InlineData("h1:eth\\u202E1", "U+202E is not allowed")]
    [InlineData("h1:ééééééééé", "18 bytes in UTF-8 (9 UTF-16 characters); the limit is 15 bytes")]
    public async Task A_lab_with_an_interface_name_with_meaning_is_400_and_makes_nothing(string endpoint, string why)
    {
        var yaml = $$"""
            name: {{Lab}}
            nodes:
              r1: { kind: arista_ceos }
              h1: { kind: linux }
            links:
              - endpoints: ["r1:Ethernet1", "{{endpoint}}"]
            """;
        var problem = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", YamlBody(yaml)), 400);
        var message = problem.GetProperty("errors")[0].GetProperty("message").GetString()!;
        Assert.StartsWith("links[0].endpoints[1]: node h1: '", message, StringComparison.Ordinal);
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.EndsWith("allowed: 1-15 bytes of ASCII letters, digits, '-', '_' and '.', starting with a letter or digit", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', message);
        Assert.DoesNotContain('\u202e', message);
        Assert.Empty(await LabNamespacesAsync());
        Assert.False(Directory.Exists(Path.Combine(State, "lab-" + Lab)));
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}"), 404);
    }

    [Theory]
    [InlineData("x\u001b[31m", "'x\\u001B[31m' is not a lab name")]
    [InlineData("x\u202ey", "'x\\u202Ey' is not a lab name")]
    [InlineData("x%25d", "'x%d' is not a lab name")]
    [InlineData("UPPER", "'UPPER' is not a lab name: must start with a lowercase letter or digit; allowed: 1-32 lowercase ASCII letters")]
    public async Task A_lab_name_in_the_path_is_checked_and_quoted_safely(string lab, string why)
    {
        var problem = await Requests.ProblemAsync(await Client.GetAsync("/v1/labs/" + (lab.Contains('%', StringComparison.Ordinal) ? lab : Uri.EscapeDataString(lab))), 400);
        Assert.Equal(["lab"], Requests.Fields(problem));
        var message = problem.GetProperty("errors")[0].GetProperty("message").GetString()!;
        Assert.Contains(why, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', message);
        Assert.DoesNotContain('\u202e', message);
        Assert.DoesNotContain('\u001b', problem.GetProperty("detail").GetString()!);
    }
}
