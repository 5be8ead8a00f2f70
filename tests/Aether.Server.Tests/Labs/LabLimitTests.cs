using System.Net;
using System.Text;

namespace Aether.Server.Tests.Labs;

/// <summary><c>POST /v1/labs</c> with a definition that exhausts the parser: 400 with the limit in the message at its
/// position, and nothing touched (no namespace, no state, no stored lab). (A body over 4 MiB never gets here: the
/// daemon's request body limit is smaller.)</summary>
public sealed class LabLimitTests : LabApiTest
{
    protected override bool Runtimes => false;

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    private string Laughs()
    {
        var yaml = new StringBuilder($"name: {Lab}\nnodes:\n  r1: {{ kind: linux, exec: [ &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol] ] }}\n");
        for (var c = 'b'; c <= 'j'; c++)
        {
            yaml.Append("  ").Append(c).Append(": { kind: linux, exec: [ &").Append(c).Append(" [")
                .AppendJoin(',', Enumerable.Repeat($"*{(char)(c - 1)}", 10)).Append("] ] }\n");
        }

        return yaml.ToString();
    }

    [Fact]
    public async Task Definitions_beyond_the_limits_are_400_and_touch_nothing()
    {
        const string Deep = "nested deeper than 64 levels of mappings and lists (the limit)";
        var cases = new (string Definition, string Message)[]
        {
            ($"name: {Lab}\nnodes: " + Repeat("[", 10_000) + Repeat("]", 10_000) + "\n", Deep),
            ($"name: {Lab}\nnodes: " + Repeat("{a: ", 10_000) + "1" + Repeat("}", 10_000) + "\n", Deep),
            (Laughs(), "more than 250000 nodes (the limit; an alias counts the nodes it stands for each time it is used)"),
            ($"name: {Lab}\nnodes: &n {{ r1: {{ kind: linux, exec: [ *n ] }} }}\n", "alias *n is inside the node it names (&n): a structure without end"),
            ($"name: {Lab}\nnodes:\n  r1: {{ kind: linux, exec: [\"{new string('a', 70_000)}\"] }}\n", "a scalar of 70000 characters, over the limit of 65536"),
        };

        foreach (var (definition, message) in cases)
        {
            foreach (var body in new HttpContent[] { YamlBody(definition), Json(new { definition }) })
            {
                var problem = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", body), 400);
                Assert.Equal("Invalid lab", problem.GetProperty("title").GetString());
                var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
                Assert.Equal("definition", error.GetProperty("file").GetString());
                Assert.Equal(message, error.GetProperty("message").GetString());
                Assert.True(error.GetProperty("line").GetInt32() >= 1);
            }
        }

        Assert.Empty(await LabNamespacesAsync());
        Assert.False(Directory.Exists(Path.Combine(State, "lab-" + Lab)));
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}"), 404);
        var list = await ExpectAsync(await Client.GetAsync("/v1/labs"), HttpStatusCode.OK);
        Assert.Equal(0, list.GetArrayLength());
    }

    [Theory]
    [InlineData(new byte[] { 0xE9 }, "byte 0xE9")]
    [InlineData(new byte[] { 0xC3, 0x28 }, "byte 0xC3")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "byte 0xED")]
    public async Task A_yaml_body_that_is_not_utf8_is_400_with_the_offset(byte[] bad, string what)
    {
        var head = Encoding.UTF8.GetBytes($"name: {Lab}\nnodes:\n  r");
        var content = new ByteArrayContent([.. head, .. bad, .. ": { kind: linux }\n"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/yaml");
        var problem = await Requests.ProblemAsync(await Client.PostAsync("/v1/labs", content), 400);
        Assert.Equal("Invalid lab", problem.GetProperty("title").GetString());
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("definition", error.GetProperty("file").GetString());
        Assert.Equal((3, 4), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
        Assert.Equal($"not UTF-8: {what} at byte offset {head.Length} (line 3, column 4); definitions are UTF-8 text", error.GetProperty("message").GetString());
        Assert.Empty(await LabNamespacesAsync());
        await Requests.ProblemAsync(await Client.GetAsync($"/v1/labs/{Lab}"), 404);
    }
}
