using Aether.Netlink.IntegrationTests.Infrastructure;
using Aether.Netlink.Protocol;
using Aether.Netlink.Rtnl;

namespace Aether.Netlink.IntegrationTests;

/// <summary>Requests written by callers' own writers, and handles opened from threads in other namespaces.</summary>
public sealed class RawRequestTests : SandboxTest
{
    [Fact]
    public async Task A_raw_batch_request_without_NLM_F_ACK_is_still_acknowledged()
    {
        using var ns = Box.CreateNamespace("r");
        var h = Box.OpenAt(ns);
        var name = Box.Name("raw");

        // A hand-written RTM_NEWLINK for a bridge that forgets NLM_F_ACK: the batch must not wait for ever.
        using var batch = h.CreateBatch();
        batch.Add(name, static (ref NetlinkWriter w, string n, uint seq, uint pid) =>
        {
            var msg = w.BeginMessage(RtmType.NewLink, NlmsgFlags.Request | NlmsgFlags.Create | NlmsgFlags.Excl, seq, pid);
            w.WriteStruct(default(IfInfoMsg));
            w.WriteString(Ifla.IfName, n);
            var info = w.BeginNested(Ifla.LinkInfo);
            w.WriteString(Ifla.InfoKind, "bridge");
            w.EndNested(info);
            w.EndMessage(msg);
        }, "create bridge", name);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var result = await batch.ExecuteAsync(timeout.Token).WaitAsync(timeout.Token);
        Assert.True(result.Succeeded);
        Assert.Equal("bridge", Ip.InfoKind(await Ip.RequireLinkAsync(ns.Name, name)));
    }

    [Fact]
    public async Task Failures_are_matched_to_their_request_when_sequence_numbers_have_gaps()
    {
        using var ns = Box.CreateNamespace("g");
        var h = Box.OpenAt(ns);
        using var batch = h.CreateBatch();
        var first = Box.Name("g1");
        batch.CreateLink(new LinkSpec(first, new Bridge()));

        // A writer that fails takes a sequence number and queues nothing; so does a request on the handle meanwhile.
        Assert.Throws<InvalidOperationException>(() => batch.Add(0, static (ref NetlinkWriter w, int _, uint seq, uint pid) => throw new InvalidOperationException("writer failed"), "broken", null));
        await h.ListLinksAsync();

        batch.CreateLink(new LinkSpec(Box.Name("g2"), new Bridge()));
        batch.CreateLink(new LinkSpec(first, new Bridge())); // a duplicate: only this one fails
        var result = await batch.ExecuteAsync();

        Assert.Equal(1, result.FailedCount);
        Assert.Null(result.Errors[0]);
        Assert.Null(result.Errors[1]);
        Assert.Equal(Errno.EEXIST, result.Errors[2]!.Errno);
        Assert.Equal(first, result.Errors[2]!.Target);
    }

    [Fact]
    public void A_raw_batch_request_that_writes_two_messages_is_refused()
    {
        using var ns = Box.CreateNamespace("t");
        using var batch = Box.OpenAt(ns).CreateBatch();
        Assert.Throws<ArgumentException>(() => batch.Add(0, static (ref NetlinkWriter w, int _, uint seq, uint pid) =>
        {
            for (var i = 0; i < 2; i++)
            {
                var msg = w.BeginMessage(RtmType.GetLink, NlmsgFlags.Request, seq, pid);
                w.WriteStruct(default(IfInfoMsg));
                w.EndMessage(msg);
            }
        }, "two messages", null));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public async Task Open_from_a_thread_inside_another_namespace_still_binds_to_the_process_namespace()
    {
        using var ns = Box.CreateNamespace("o");
        var inside = Box.OpenAt(ns);
        var marker = Box.Name("mk");
        await inside.CreateLinkAsync(new LinkSpec(marker, new Bridge()));

        // RunInside executes on a thread that is in the test namespace; Open() there must not bind to it.
        var handle = Box.Own(ns.RunInside(() => NetlinkHandle.Open()));
        Assert.Null(await handle.FindLinkAsync(marker));
        Assert.NotNull(await inside.FindLinkAsync(marker));
        Assert.NotNull(await handle.FindLinkAsync("lo"));
    }
}

public sealed class ReplyTimeoutTests : SandboxTest
{
    [Fact]
    public void A_request_that_gets_no_answer_times_out_with_ETIMEDOUT()
    {
        using var ns = Box.CreateNamespace("w");
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route, ns, new NetlinkSocketOptions { ReplyTimeout = TimeSpan.FromMilliseconds(200) });

        // Setting lo up without NLM_F_ACK succeeds silently: waiting for an acknowledgement must not hang.
        var seq = socket.NextSequence();
        byte[] request;
        var writer = new NetlinkWriter(64);
        try
        {
            var msg = writer.BeginMessage(RtmType.NewLink, NlmsgFlags.Request, seq, socket.PortId);
            writer.WriteStruct(new IfInfoMsg { Index = 1, Flags = Iff.Up, Change = Iff.Up });
            writer.EndMessage(msg);
            request = writer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Dispose();
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<NetlinkException>(() => socket.Execute(request, seq, "set link", "lo"));
        Assert.Equal(110, ex.Errno);
        Assert.Equal("ETIMEDOUT", ex.ErrnoName);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(150), $"gave up after {started.Elapsed}");
    }

    [Fact]
    public void Bad_socket_options_are_rejected_before_the_socket_is_made()
    {
        Assert.Throws<ArgumentException>(() => NetlinkSocket.Open(NetlinkProtocol.Route, null, new NetlinkSocketOptions { ReplyTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => NetlinkSocket.Open(NetlinkProtocol.Route, null, new NetlinkSocketOptions { ReceiveBufferSize = -1 }));
    }
}
