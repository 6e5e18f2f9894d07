using System.Text;
using Dapper;
using Hub.Connectors.Validation;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>The numbers the checker says PostgreSQL's numeric holds are the ones PostgreSQL reads, at and beyond each limit.</summary>
[Collection(HubTestGroup.Name)]
public sealed class StoreLimitsTests(HubFixture hub)
{
    public static TheoryData<string> Numbers =>
    [
        "0", "-0", "12.50", "-1.5e3", "1E+5", "1e+0000000000000000000005", "1e1001", "1e-1001",
        "1e-16383", "1e-16384", "-1e-16384", "1e-20000", "0e-16383", "0e-20000", "-0e-16384", "0.0e-16383", "0.0e-16384",
        "-12345.678e-16375", "-12345.678e-16376", "1.5e-16382", "1.5e-16383",
        "1e131071", "9.99e131071", "1e131072", "0.1e131072", "0.01e131073", "0.01e131074", "123e131069", "123e131070",
        "0e1073741822", "0e1073741823", "0e-1073741823", "1e99999999999999999999", "1e-99999999999999999999",
        "0." + new string('0', 16382) + "1", "0." + new string('0', 16383) + "1", "0." + new string('0', 16383),
        "1" + new string('0', 131071), "1" + new string('0', 131072), "-" + new string('9', 131072) + ".5",
    ];

    [Theory]
    [MemberData(nameof(Numbers))]
    public async Task The_checker_and_postgresql_agree_on_which_numbers_numeric_holds(string number)
    {
        bool holds;
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        try
        {
            holds = await connection.ExecuteScalarAsync<bool>("select @number::numeric is not null", new { number });
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.NumericValueOutOfRange or PostgresErrorCodes.InvalidTextRepresentation)
        {
            holds = false;
        }

        Assert.Equal(holds, StoreLimits.NumericHolds(Encoding.ASCII.GetBytes(number)));
    }
}
