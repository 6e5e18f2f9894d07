using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace DemoAgency;

/// <summary>
/// A deterministic synthetic dataset of administrative-procedure files (hồ sơ), computed from the record index on every
/// request and never materialized: any page of any revision of millions of records costs only its own records.
/// The same (name, count, revision, id) always yields the same bytes. See <see cref="RevisionPlan"/> for revisions.
/// </summary>
internal sealed class GeneratedDataset
{
    public const int DefaultCount = 1_000_000;
    public const int MaxCount = 1_000_000_000;

    private static readonly JsonEncodedText Id = Encode("id");
    private static readonly JsonEncodedText MaHoSo = Encode("ma_ho_so");
    private static readonly JsonEncodedText HoTen = Encode("ho_ten");
    private static readonly JsonEncodedText NgaySinh = Encode("ngay_sinh");
    private static readonly JsonEncodedText DiaChi = Encode("dia_chi");
    private static readonly JsonEncodedText MaXa = Encode("ma_xa");
    private static readonly JsonEncodedText SoTien = Encode("so_tien");
    private static readonly JsonEncodedText TrangThai = Encode("trang_thai");
    private static readonly JsonEncodedText NgayCapNhat = Encode("ngay_cap_nhat");
    private static readonly JsonEncodedText GhiChu = Encode("ghi_chu");
    private static readonly JsonEncodedText DaXoa = Encode("da_xoa");

    // Weighted by repetition, roughly like the population of Ninh Thuận (Kinh, Chăm and Raglai family names).
    private static readonly byte[][] FamilyNames = Utf8(
        "Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Phạm", "Hoàng", "Huỳnh",
        "Phan", "Vũ", "Võ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh", "Lương", "Mai",
        "Đàng", "Thập", "Quảng", "Châu", "Thiên", "Lộ", "Chamaléa", "Pi Năng", "Katơr");

    private static readonly byte[][] MaleMiddleNames = Utf8("Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Ngọc", "Hoàng");
    private static readonly byte[][] FemaleMiddleNames = Utf8("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Bích", "Diệu");

    private static readonly byte[][] MaleGivenNames = Utf8(
        "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hiển", "Hùng", "Huy", "Khánh", "Khoa", "Lâm", "Long",
        "Lộc", "Mạnh", "Nam", "Nghĩa", "Phong", "Phúc", "Quang", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Thịnh",
        "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ");

    private static readonly byte[][] FemaleGivenNames = Utf8(
        "Anh", "Châu", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Huyền", "Hương", "Lan", "Linh",
        "Loan", "Mai", "My", "Nga", "Ngân", "Nhàn", "Nhung", "Oanh", "Phương", "Quyên", "Tâm", "Thảo", "Thủy",
        "Trang", "Trâm", "Tuyết", "Uyên", "Vân", "Vy", "Yến");

    private static readonly byte[][] Streets = Utf8(
        "Thống Nhất", "16 Tháng 4", "21 Tháng 8", "Ngô Gia Tự", "Lê Duẩn", "Trần Phú", "Yên Ninh", "Nguyễn Văn Cừ",
        "Quang Trung", "Lê Hồng Phong", "Hải Thượng Lãn Ông", "Trường Chinh", "Minh Mạng", "Lê Lợi", "Bác Ái",
        "Tô Hiệu", "Trần Quang Diệu", "Ngô Quyền", "Hùng Vương", "Nguyễn Thị Minh Khai");

    private static readonly JsonEncodedText[] Notes = EncodeAll(
        "Hồ sơ đã được tiếp nhận tại Bộ phận Một cửa",
        "Yêu cầu bổ sung bản sao giấy khai sinh",
        "Chờ xác minh thông tin cư trú",
        "Đã trả kết quả qua dịch vụ bưu chính công ích",
        "Hồ sơ nộp trực tuyến toàn trình trên Cổng dịch vụ công",
        "Thiếu chữ ký của người đề nghị",
        "Chuyển Phòng Tài nguyên và Môi trường thẩm định",
        "Công dân đề nghị nhận kết quả tại nhà",
        "Đã thu phí, lệ phí theo quy định",
        "Gia hạn thời gian giải quyết do cần xác minh thực địa");

    private static readonly JsonEncodedText[] Statuses = EncodeAll("moi", "dang_xu_ly", "hoan_thanh", "tu_choi");

    private static readonly byte[] So = Encoding.UTF8.GetBytes("Số ");
    private static readonly byte[] Duong = Encoding.UTF8.GetBytes(" đường ");
    private static readonly byte[] Thon = Encoding.UTF8.GetBytes("Thôn ");
    private static readonly byte[] KhuPho = Encoding.UTF8.GetBytes("Khu phố ");

    /// <summary>The offset of every date-time the agency writes, and of an <c>updated_since</c> given without one.</summary>
    public static readonly TimeSpan VietnamOffset = TimeSpan.FromHours(7);
    private static readonly int FirstBirthDay = new DateOnly(1940, 1, 1).DayNumber;
    private static readonly int LastBirthDay = new DateOnly(2007, 12, 31).DayNumber;
    private static readonly int FirstReceivedDay = new DateOnly(2019, 1, 1).DayNumber;
    private static readonly int LastReceivedDay = new DateOnly(2025, 6, 30).DayNumber;

    // Revision 0 updates a file 0 to 90 days after it was received, in office hours: every revision-0 ngay_cap_nhat is
    // before the horizon, 2025-09-29T00:00:00+07:00 (the latest is 2025-09-28T16:59:59+07:00). Revision r > 0 dates its
    // changes, additions and deletions within its own window of RevisionWindowDays days starting RevisionWindowDays * r
    // days after the horizon (revision 1: 2025-10-29 to 2025-11-27), so windows of different revisions never overlap.
    private const int MaxUpdateDelayDays = 90;
    private const int RevisionWindowDays = 30;
    private static readonly int HorizonDay = LastReceivedDay + MaxUpdateDelayDays + 1;

    private readonly WardInfo[] _wards;

    public GeneratedDataset(AdministrativeUnits units)
    {
        Ward[] wards = units.WardsOf(AdministrativeUnits.NinhThuan, null);
        if (wards.Length == 0)
        {
            wards = units.Wards; // a data file without Ninh Thuận: any ward will do
        }

        if (wards.Length == 0)
        {
            throw new InvalidDataException("the administrative-units file has no ward to generate addresses from");
        }

        Dictionary<string, string> provinceNames = units.Provinces.ToDictionary(p => p.Code, p => p.Name, StringComparer.Ordinal);
        _wards = [.. wards.Select(w => new WardInfo(
            Encode(w.Code),
            Encoding.UTF8.GetBytes($", {w.Name}, {units.FindDistrict(w.DistrictCode)?.Name}, {provinceNames.GetValueOrDefault(w.ProvinceCode)}"),
            w.Type == "Xã"))];
    }

    /// <summary>Wards whose names and codes the addresses use.</summary>
    public int WardCount => _wards.Length;

    /// <summary>A stable 64-bit seed from the dataset name (FNV-1a of its UTF-8 bytes, never string.GetHashCode).</summary>
    public static ulong SeedOf(string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>
    /// Writes record <paramref name="id"/> of a revision. A broken record (fault <c>badRecordEvery</c>) lacks the required
    /// <c>ma_ho_so</c> and has <c>so_tien</c> as a JSON string.
    /// </summary>
    public void WriteRecord(Utf8JsonWriter writer, ulong seed, in RevisionPlan plan, long id, bool broken)
    {
        long index = id - 1;
        Span<byte> buffer = stackalloc byte[512];

        // Identity: never changes between revisions.
        var who = new Rng(seed, index, 1);
        (bool female, int receivedDay) = DrawFirst(ref who, plan.IsAdded(index));
        DateOnly birth = DateOnly.FromDayNumber(FirstBirthDay + who.Below(LastBirthDay - FirstBirthDay + 1));
        WardInfo ward = _wards[who.Below(_wards.Length)];
        State state = StateOf(seed, plan, index, receivedDay);

        writer.WriteStartObject();
        writer.WriteNumber(Id, id);
        if (!broken)
        {
            int n = Append(buffer, 0, "HS-"u8);
            n += Format(DateOnly.FromDayNumber(receivedDay).Year, buffer[n..], 4);
            buffer[n++] = (byte)'-';
            n += Format(id, buffer[n..], 7);
            writer.WriteString(MaHoSo, buffer[..n]);
        }

        int len = Append(buffer, 0, FamilyNames[who.Below(FamilyNames.Length)]);
        buffer[len++] = (byte)' ';
        byte[][] middle = female ? FemaleMiddleNames : MaleMiddleNames;
        len = Append(buffer, len, middle[who.Below(middle.Length)]);
        buffer[len++] = (byte)' ';
        byte[][] given = female ? FemaleGivenNames : MaleGivenNames;
        len = Append(buffer, len, given[who.Below(given.Length)]);
        writer.WriteString(HoTen, buffer[..len]);

        len = Format(birth.Year, buffer, 4);
        buffer[len++] = (byte)'-';
        len += Format(birth.Month, buffer[len..], 2);
        buffer[len++] = (byte)'-';
        len += Format(birth.Day, buffer[len..], 2);
        writer.WriteString(NgaySinh, buffer[..len]);

        if (ward.IsCommune)
        {
            len = Append(buffer, 0, Thon);
            len += Format(1 + who.Below(12), buffer[len..], 1);
        }
        else
        {
            len = Append(buffer, 0, So);
            len += Format(1 + who.Below(400), buffer[len..], 1);
            if (who.Below(4) == 0)
            {
                buffer[len++] = (byte)'/';
                len += Format(1 + who.Below(40), buffer[len..], 1);
            }

            if (who.Below(3) == 0)
            {
                buffer[len++] = (byte)',';
                buffer[len++] = (byte)' ';
                len = Append(buffer, len, KhuPho);
                len += Format(1 + who.Below(10), buffer[len..], 1);
            }
            else
            {
                len = Append(buffer, len, Duong);
                len = Append(buffer, len, Streets[who.Below(Streets.Length)]);
            }
        }

        len = Append(buffer, len, ward.AddressSuffix);
        writer.WriteString(DiaChi, buffer[..len]);
        writer.WriteString(MaXa, ward.Code);

        decimal amount = new((int)(state.Cents & 0xFFFF_FFFF), (int)(state.Cents >> 32), 0, false, 2);
        if (broken)
        {
            if (!Utf8Formatter.TryFormat(amount, buffer, out len))
            {
                throw new InvalidOperationException("amount does not fit the buffer");
            }

            writer.WriteString(SoTien, buffer[..len]);
        }
        else
        {
            writer.WriteNumber(SoTien, amount);
        }

        writer.WriteString(TrangThai, Statuses[state.Status]);
        writer.WriteString(NgayCapNhat, VietnamTime(state.UpdatedTicks));
        if (state.Note < Notes.Length * 6)
        {
            writer.WriteString(GhiChu, Notes[state.Note % Notes.Length]);
        }
        else
        {
            writer.WriteNull(GhiChu);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Whether the <c>ngay_cap_nhat</c> of base or added record <paramref name="index"/> in a revision is at or after
    /// <paramref name="from"/> (ticks of Vietnam local time), computed without writing the record; for a record with its
    /// revision-0 state, from its received day alone when that is too early for any of its dates to reach
    /// <paramref name="from"/>. Meaningless for a record the revision deleted (see <see cref="DeletedTicks"/>).
    /// </summary>
    public static bool IsUpdatedSince(ulong seed, in RevisionPlan plan, long index, long from)
    {
        var who = new Rng(seed, index, 1);
        int receivedDay = DrawFirst(ref who, plan.IsAdded(index)).ReceivedDay;
        if (!IsFresh(plan, index) && (receivedDay + MaxUpdateDelayDays + 1) * TimeSpan.TicksPerDay <= from)
        {
            return false;
        }

        return StateOf(seed, plan, index, receivedDay).UpdatedTicks >= from;
    }

    /// <summary>When revision <c>r</c> deleted base record <paramref name="index"/>: a time in the revision's window, as ticks of Vietnam local time.</summary>
    public static long DeletedTicks(ulong seed, in RevisionPlan plan, long index)
    {
        Rng rng = RevisionRng(seed, plan, index);
        return InRevisionWindow(plan.Revision, ref rng);
    }

    /// <summary>
    /// Writes the tombstone <c>{"id","ngay_cap_nhat","da_xoa":true}</c> of base record <paramref name="id"/>, which the
    /// revision deleted. A broken tombstone (fault <c>badRecordEvery</c>) lacks its <c>id</c>: a deletion of no key.
    /// </summary>
    public static void WriteTombstone(Utf8JsonWriter writer, ulong seed, in RevisionPlan plan, long id, bool broken)
    {
        writer.WriteStartObject();
        if (!broken)
        {
            writer.WriteNumber(Id, id);
        }

        writer.WriteString(NgayCapNhat, VietnamTime(DeletedTicks(seed, plan, id - 1)));
        writer.WriteBoolean(DaXoa, true);
        writer.WriteEndObject();
    }

    /// <summary>Ticks of Vietnam local time of an instant.</summary>
    public static long VietnamTicks(DateTimeOffset instant) => instant.ToOffset(VietnamOffset).Ticks;

    // moi 15 %, dang_xu_ly 30 %, hoan_thanh 45 %, tu_choi 10 %.
    private static int PickStatus(ref Rng rng) => rng.Below(100) switch
    {
        < 15 => 0,
        < 45 => 1,
        < 90 => 2,
        _ => 3,
    };

    // Fees and payments in đồng, with 2 decimals (a tenth of them with a non-zero fraction).
    private static long PickAmount(ref Rng rng)
    {
        long dong = rng.Below(100) switch
        {
            < 50 => 10_000 + (rng.Below(980) * 500L),
            < 85 => 500_000 + (rng.Below(19_000) * 500L),
            _ => 10_000_000 + (rng.Below(490_000) * 1_000L),
        };
        return (dong * 100) + (rng.Below(10) == 0 ? rng.Below(100) : 0);
    }

    // The first two draws of a record's identity stream: its sex and the day its file was received.
    private static (bool Female, int ReceivedDay) DrawFirst(ref Rng who, bool added)
    {
        bool female = who.Below(2) == 0;
        int receivedDay = added
            ? LastReceivedDay + 1 + who.Below(60)
            : FirstReceivedDay + who.Below(LastReceivedDay - FirstReceivedDay + 1);
        return (female, receivedDay);
    }

    // State in revision 0 (stream 2), or re-drawn from the revision's stream for a changed or added record, whose
    // ngay_cap_nhat then falls in the revision's window.
    private static State StateOf(ulong seed, in RevisionPlan plan, long index, int receivedDay)
    {
        bool fresh = IsFresh(plan, index);
        var rng = fresh ? RevisionRng(seed, plan, index) : new Rng(seed, index, 2);
        int status = PickStatus(ref rng);
        long cents = PickAmount(ref rng);
        int note = rng.Below(100);
        long updated = fresh ? InRevisionWindow(plan.Revision, ref rng) : UpdatedAt(receivedDay, ref rng);
        return new State(status, cents, note, updated);
    }

    private static bool IsFresh(in RevisionPlan plan, long index) => plan.IsChanged(index) || plan.IsAdded(index);

    private static Rng RevisionRng(ulong seed, in RevisionPlan plan, long index) => new(seed, index, 3 + ((ulong)plan.Revision << 8));

    // Office hours, 7:00 to 17:00, 0 to MaxUpdateDelayDays days after the file was received (ticks of Vietnam local time).
    private static long UpdatedAt(int receivedDay, ref Rng rng) => OfficeHours(receivedDay + rng.Below(MaxUpdateDelayDays + 1), ref rng);

    // Office hours on one of the RevisionWindowDays days of revision r's window, which starts RevisionWindowDays * r days after the horizon.
    private static long InRevisionWindow(int revision, ref Rng rng) =>
        OfficeHours(HorizonDay + (RevisionWindowDays * revision) + rng.Below(RevisionWindowDays), ref rng);

    private static long OfficeHours(int day, ref Rng rng) =>
        (day * TimeSpan.TicksPerDay) + (7 * TimeSpan.TicksPerHour) + (rng.Below(10 * 3600) * TimeSpan.TicksPerSecond);

    private static DateTimeOffset VietnamTime(long ticks) => new(new DateTime(ticks), VietnamOffset);

    private static int Append(Span<byte> buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[at..]);
        return at + bytes.Length;
    }

    private static int Format(long value, Span<byte> destination, byte minDigits)
    {
        if (!Utf8Formatter.TryFormat(value, destination, out int written, new System.Buffers.StandardFormat('D', minDigits)))
        {
            throw new InvalidOperationException("number does not fit the buffer");
        }

        return written;
    }

    private static JsonEncodedText Encode(string value) => JsonEncodedText.Encode(value, AgencyJson.Encoder);

    private static JsonEncodedText[] EncodeAll(params string[] values) => [.. values.Select(Encode)];

    private static byte[][] Utf8(params string[] values) => [.. values.Select(Encoding.UTF8.GetBytes)];

    private sealed record WardInfo(JsonEncodedText Code, byte[] AddressSuffix, bool IsCommune);

    private readonly record struct State(int Status, long Cents, int Note, long UpdatedTicks);

    /// <summary>SplitMix64 stream seeded by (dataset seed, record index, purpose).</summary>
    private struct Rng(ulong seed, long index, ulong purpose)
    {
        private ulong _state = Mix(seed ^ Mix(((ulong)index * 0x9E3779B97F4A7C15UL) ^ (purpose * 0xD1B54A32D192ED03UL)));

        public int Below(int bound)
        {
            _state += 0x9E3779B97F4A7C15UL;
            return (int)(((Mix(_state) >> 32) * (ulong)bound) >> 32);
        }

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

/// <summary><c>/api/generated/{name}</c> and <c>/api/generated/{name}/expected</c>.</summary>
internal static class GeneratedDatasetEndpoints
{
    public static void MapGeneratedDataset(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/generated/{name}", (string name, HttpRequest request, GeneratedDataset dataset, UpdatedSinceCache changes) =>
        {
            if (!TryPlan(request, out RevisionPlan plan, out string? error)
                || !PageRequest.TryParse(request.Query, out PageRequest page, out error)
                || !UpdatedSince.TryParse(request.Query, out DateTimeOffset? since, out error))
            {
                return AgencyJson.Error(StatusCodes.Status400BadRequest, error!);
            }

            ulong seed = GeneratedDataset.SeedOf(name);
            if (since is null)
            {
                return new JsonPageResult(plan.Total, page, (writer, position, broken) =>
                    dataset.WriteRecord(writer, seed, plan, plan.IdAt(position), broken));
            }

            if (plan.Count > UpdatedSince.MaxCount)
            {
                return AgencyJson.Error(StatusCodes.Status400BadRequest, $"updated_since needs a count of at most {UpdatedSince.MaxCount}");
            }

            // Positive entries are records, negative ones tombstones of deleted records.
            int[] entries = changes.Get(seed, plan, since.Value);
            return new JsonPageResult(entries.Length, page, (writer, position, broken) =>
            {
                int entry = entries[position];
                if (entry > 0)
                {
                    dataset.WriteRecord(writer, seed, plan, entry, broken);
                }
                else
                {
                    GeneratedDataset.WriteTombstone(writer, seed, plan, -entry, broken);
                }
            });
        });

        app.MapGet("/api/generated/{name}/expected", (string name, HttpRequest request) =>
            TryPlan(request, out RevisionPlan plan, out string? error)
                ? Results.Json(plan.Expected, AgencyJson.Context.ExpectedCounts, AgencyJson.ContentType)
                : AgencyJson.Error(StatusCodes.Status400BadRequest, error!));

        // The agency "changes its data": requests without a revision parameter serve this revision from now on.
        app.MapPut("/admin/generated/{name}/revision/{revision:int:min(0)}", (string name, int revision) =>
        {
            if (RevisionPlan.RevisionError(revision) is { } problem)
            {
                return AgencyJson.Error(StatusCodes.Status400BadRequest, problem);
            }

            CurrentRevisions[name] = revision;
            return Results.NoContent();
        });
    }

    /// <summary>The revision served to requests of a dataset that name none (0 until an admin call sets it).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> CurrentRevisions = new(StringComparer.Ordinal);

    private static bool TryPlan(HttpRequest request, out RevisionPlan plan, out string? error)
    {
        plan = default;
        var name = request.RouteValues["name"] as string ?? string.Empty;
        if (!PageRequest.TryInt(request.Query, "count", GeneratedDataset.DefaultCount, out int count, out error)
            || !PageRequest.TryInt(request.Query, "revision", CurrentRevisions.GetValueOrDefault(name), out int revision, out error))
        {
            return false;
        }

        if (count > GeneratedDataset.MaxCount)
        {
            error = $"count must be at most {GeneratedDataset.MaxCount}";
            return false;
        }

        if (RevisionPlan.RevisionError(revision) is { } problem)
        {
            error = problem;
            return false;
        }

        plan = new RevisionPlan(count, revision);
        return true;
    }
}
