using System.Text.Json;
using System.Text.Json.Serialization;

namespace DemoAgency;

/// <summary>Shape of data/dvhcvn.json (the GSO administrative-units list, 3 levels).</summary>
internal sealed record DvhcvnFile(
    [property: JsonPropertyName("data")] IReadOnlyList<DvhcvnLevel1> Data,
    [property: JsonPropertyName("data_date")] string? DataDate);

internal sealed record DvhcvnLevel1(
    [property: JsonPropertyName("level1_id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("level2s")] IReadOnlyList<DvhcvnLevel2>? Level2s);

internal sealed record DvhcvnLevel2(
    [property: JsonPropertyName("level2_id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("level3s")] IReadOnlyList<DvhcvnLevel3>? Level3s);

internal sealed record DvhcvnLevel3(
    [property: JsonPropertyName("level3_id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type);

internal sealed record Province(string Code, string Name, string Type);

internal sealed record District(string Code, string Name, string Type, string ProvinceCode);

internal sealed record Ward(string Code, string Name, string Type, string DistrictCode, string ProvinceCode);

/// <summary>The administrative units, loaded once at start, each level ordered by code.</summary>
internal sealed class AdministrativeUnits
{
    public const string NinhThuan = "58";

    private readonly Dictionary<string, District[]> _districtsByProvince;
    private readonly Dictionary<string, Ward[]> _wardsByProvince;
    private readonly Dictionary<string, Ward[]> _wardsByDistrict;
    private readonly Dictionary<string, District> _districtByCode;

    private AdministrativeUnits(string? dataDate, Province[] provinces, District[] districts, Ward[] wards)
    {
        DataDate = dataDate;
        Provinces = provinces;
        Districts = districts;
        Wards = wards;
        _districtsByProvince = districts.GroupBy(d => d.ProvinceCode, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _wardsByProvince = wards.GroupBy(w => w.ProvinceCode, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _wardsByDistrict = wards.GroupBy(w => w.DistrictCode, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _districtByCode = districts.ToDictionary(d => d.Code, StringComparer.Ordinal);
    }

    public string? DataDate { get; }

    public Province[] Provinces { get; }

    public District[] Districts { get; }

    public Ward[] Wards { get; }

    public static AdministrativeUnits Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        DvhcvnFile file = JsonSerializer.Deserialize(stream, AgencyJson.Context.DvhcvnFile)
            ?? throw new InvalidDataException($"{path}: empty administrative-units file");
        var provinces = new List<Province>();
        var districts = new List<District>();
        var wards = new List<Ward>();
        foreach (DvhcvnLevel1 l1 in file.Data)
        {
            provinces.Add(new Province(l1.Id, l1.Name, l1.Type));
            foreach (DvhcvnLevel2 l2 in l1.Level2s ?? [])
            {
                districts.Add(new District(l2.Id, l2.Name, l2.Type, l1.Id));
                foreach (DvhcvnLevel3 l3 in l2.Level3s ?? [])
                {
                    wards.Add(new Ward(l3.Id, l3.Name, l3.Type, l2.Id, l1.Id));
                }
            }
        }

        return new AdministrativeUnits(
            file.DataDate,
            [.. provinces.OrderBy(p => p.Code, StringComparer.Ordinal)],
            [.. districts.OrderBy(d => d.Code, StringComparer.Ordinal)],
            [.. wards.OrderBy(w => w.Code, StringComparer.Ordinal)]);
    }

    public District? FindDistrict(string code) => _districtByCode.GetValueOrDefault(code);

    public District[] DistrictsOf(string? province) =>
        province is null ? Districts : _districtsByProvince.GetValueOrDefault(province) ?? [];

    public Ward[] WardsOf(string? province, string? district)
    {
        if (district is not null)
        {
            Ward[] inDistrict = _wardsByDistrict.GetValueOrDefault(district) ?? [];
            return province is null || (inDistrict.Length > 0 && inDistrict[0].ProvinceCode == province) ? inDistrict : [];
        }

        return province is null ? Wards : _wardsByProvince.GetValueOrDefault(province) ?? [];
    }
}

/// <summary>
/// <c>/api/provinces</c>, <c>/api/districts</c>, <c>/api/wards</c>. A broken record (fault <c>badRecordEvery</c>) lacks its
/// name field and has its code as a JSON number instead of a string.
/// </summary>
internal static class AdministrativeUnitEndpoints
{
    private static readonly JsonEncodedText MaTinh = JsonEncodedText.Encode("ma_tinh");
    private static readonly JsonEncodedText TenTinh = JsonEncodedText.Encode("ten_tinh");
    private static readonly JsonEncodedText MaHuyen = JsonEncodedText.Encode("ma_huyen");
    private static readonly JsonEncodedText TenHuyen = JsonEncodedText.Encode("ten_huyen");
    private static readonly JsonEncodedText MaXa = JsonEncodedText.Encode("ma_xa");
    private static readonly JsonEncodedText TenXa = JsonEncodedText.Encode("ten_xa");
    private static readonly JsonEncodedText LoaiHinh = JsonEncodedText.Encode("loai_hinh");

    public static void MapAdministrativeUnits(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/provinces", (HttpRequest request, AdministrativeUnits units) =>
            Page(request, units.Provinces, static (w, p, broken) =>
            {
                WriteCode(w, MaTinh, p.Code, broken);
                if (!broken)
                {
                    w.WriteString(TenTinh, p.Name);
                }

                w.WriteString(LoaiHinh, p.Type);
            }));

        app.MapGet("/api/districts", (HttpRequest request, AdministrativeUnits units) =>
            Page(request, units.DistrictsOf(Filter(request, "province")), static (w, d, broken) =>
            {
                WriteCode(w, MaHuyen, d.Code, broken);
                if (!broken)
                {
                    w.WriteString(TenHuyen, d.Name);
                }

                w.WriteString(LoaiHinh, d.Type);
                w.WriteString(MaTinh, d.ProvinceCode);
            }));

        app.MapGet("/api/wards", (HttpRequest request, AdministrativeUnits units) =>
            Page(request, units.WardsOf(Filter(request, "province"), Filter(request, "district")), static (w, x, broken) =>
            {
                WriteCode(w, MaXa, x.Code, broken);
                if (!broken)
                {
                    w.WriteString(TenXa, x.Name);
                }

                w.WriteString(LoaiHinh, x.Type);
                w.WriteString(MaHuyen, x.DistrictCode);
                w.WriteString(MaTinh, x.ProvinceCode);
            }));
    }

    private static string? Filter(HttpRequest request, string name)
    {
        string? value = request.Query[name];
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static IResult Page<T>(HttpRequest request, T[] items, Action<Utf8JsonWriter, T, bool> writeFields)
    {
        if (!PageRequest.TryParse(request.Query, out PageRequest page, out string? error))
        {
            return AgencyJson.Error(StatusCodes.Status400BadRequest, error!);
        }

        return new JsonPageResult(items.Length, page, (writer, position, broken) =>
        {
            writer.WriteStartObject();
            writeFields(writer, items[position], broken);
            writer.WriteEndObject();
        });
    }

    private static void WriteCode(Utf8JsonWriter writer, JsonEncodedText name, string code, bool broken)
    {
        if (broken && long.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long number))
        {
            writer.WriteNumber(name, number); // "00001" becomes 1: a type error and a lost leading zero
        }
        else
        {
            writer.WriteString(name, code);
        }
    }
}
