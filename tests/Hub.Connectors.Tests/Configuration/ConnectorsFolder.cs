namespace Hub.Connectors.Tests.Configuration;

/// <summary>A throw-away connectors.d folder with a ward schema, for loader tests.</summary>
public sealed class ConnectorsFolder : IDisposable
{
    public const string WardSchema =
        """
        {
          "type": "object",
          "required": ["ma_xa", "ten_xa"],
          "properties": {
            "ma_xa": { "type": "string", "pattern": "^[0-9]{5}$" },
            "ten_xa": { "type": "string" },
            "dan_so": { "type": "integer" },
            "dien_tich": { "type": ["number", "null"] },
            "ngay_thanh_lap": { "type": "string", "format": "date" },
            "cap_nhat": { "type": "string", "format": "date-time" },
            "con_hieu_luc": { "type": "boolean" },
            "ranh_gioi": { "type": "object" }
          }
        }
        """;

    public ConnectorsFolder()
    {
        Path = Directory.CreateTempSubdirectory("connectors-").FullName;
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "schemas"));
        File.WriteAllText(System.IO.Path.Combine(Path, "schemas", "xa.v1.json"), WardSchema);
    }

    public string Path { get; }

    public string Write(string name, string yaml)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, yaml);
        return file;
    }

    public static string Agency(string code = "SNV", string datasetId = "dvhc-xa", string extra = "", string url = "http://agency.test/api/wards") =>
        $"""
        version: 1
        agency:
          code: {code}
          name: Sở Nội vụ
        datasets:
          - id: {datasetId}
            title: Danh mục xã
            licence: CC-BY-4.0
            update_cycle: yearly
            schedule: "0 0 2 * * ?"
            schema: schemas/xa.v1.json
            primary_key: ma_xa
        {extra}    source:
              kind: rest
              url: "{url}"
              record_path: $.data
              paging:
                style: offset
                page_size: 50
        """;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
