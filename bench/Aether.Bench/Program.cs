using System.Globalization;
using Aether.Bench;

return args switch
{
    ["workload", "--n", var n, "--prefix", var prefix] => await Workload.RunAsync(int.Parse(n, CultureInfo.InvariantCulture), prefix),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: aether-bench workload --n N --prefix P");
    return 2;
}
