//! The `geom` field: EWKT (`SRID=2154;POINT(…)`), hex EWKB, or WKT without SRID (FORMAT.md §4).
//! Parsed here with georust's `wkt` crate (and `geozero` for EWKB) so that a bad geometry is a row
//! problem with its line, never an ERROR in the middle of COPY; PostGIS parses and projects the
//! accepted ones. The structural rules checked are those PostGIS enforces when it reads a geometry.

use std::str::FromStr;

use geozero::wkt::{WktDialect, WktWriter};
use geozero::CoordDimensions;

use super::{ValueError, ValueResult};

/// What the loader needs to know of an accepted geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeometryFacts {
    /// The SRID it names, if any (else the local SRID is assumed).
    pub srid: Option<i32>,
    /// It has Z or M coordinates, which the 2D target columns cannot take (only X and Y are kept).
    pub z_or_m: bool,
}

/// Checks a geometry's text.
pub fn check_geometry(text: &str) -> ValueResult<GeometryFacts> {
    let text = text.trim();
    if is_hex(text) {
        let (ewkt, z_or_m) = ewkb_to_ewkt(text)?;
        let facts = check_ewkt(&ewkt)?;
        return Ok(GeometryFacts {
            z_or_m: facts.z_or_m || z_or_m,
            ..facts
        });
    }
    check_ewkt(text)
}

fn is_hex(text: &str) -> bool {
    text.len() >= 18 && text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn invalid_wkt(message: impl Into<String>) -> ValueError {
    ValueError::new("INVALID_WKT", message)
}

fn invalid_geometry(message: impl Into<String>) -> ValueError {
    ValueError::new("INVALID_GEOMETRY", message)
}

/// How deeply a geometry may nest, in WKT parentheses. Real geometries nest 3 or 4 levels (a ring
/// in a polygon in a multipolygon in a collection); the parsers recurse once per level, so an
/// unbounded depth in a hostile archive would overflow the stack and abort the backend. Hex EWKB is
/// stopped at as many collections while it is read, then checked as the EWKT it becomes.
pub const MAX_NESTING: usize = 32;

fn too_deep() -> ValueError {
    invalid_wkt(format!("geometry nested deeper than {MAX_NESTING} levels"))
}

/// The deepest parenthesis nesting of a WKT text (a lexical count, before any parser recurses).
fn wkt_nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A WKT writer that refuses collections nested deeper than [`MAX_NESTING`]: geozero's WKB reader
/// calls `geometrycollection_begin` before it recurses into the members, so the refusal stops the
/// recursion. It also notes Z and M coordinates, which it leaves out of the 2D text it writes.
/// Everything else is the writer's.
struct NestingGuard<W: std::io::Write> {
    writer: WktWriter<W>,
    collections: usize,
    z_or_m: bool,
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> geozero::error::Result<()> {
            self.writer.$name($($arg),*)
        })*
    };
}

impl<W: std::io::Write> geozero::GeomProcessor for NestingGuard<W> {
    // Every dimension is asked for, so that `coordinate` sees Z and M.
    fn dimensions(&self) -> CoordDimensions {
        CoordDimensions::xyzm()
    }
    fn multi_dim(&self) -> bool {
        true
    }
    fn geometrycollection_begin(&mut self, size: usize, idx: usize) -> geozero::error::Result<()> {
        self.collections += 1;
        if self.collections > MAX_NESTING {
            return Err(geozero::error::GeozeroError::Geometry(too_deep().message));
        }
        self.writer.geometrycollection_begin(size, idx)
    }
    fn geometrycollection_end(&mut self, idx: usize) -> geozero::error::Result<()> {
        self.collections -= 1;
        self.writer.geometrycollection_end(idx)
    }
    #[allow(clippy::too_many_arguments)]
    fn coordinate(
        &mut self,
        x: f64,
        y: f64,
        z: Option<f64>,
        m: Option<f64>,
        t: Option<f64>,
        tm: Option<u64>,
        idx: usize,
    ) -> geozero::error::Result<()> {
        self.z_or_m |= z.is_some() || m.is_some();
        self.writer.coordinate(x, y, None, None, t, tm, idx)
    }
    delegate! {
        srid(srid: Option<i32>);
        xy(x: f64, y: f64, idx: usize);
        empty_point(idx: usize);
        point_begin(idx: usize);
        point_end(idx: usize);
        multipoint_begin(size: usize, idx: usize);
        multipoint_end(idx: usize);
        linestring_begin(tagged: bool, size: usize, idx: usize);
        linestring_end(tagged: bool, idx: usize);
        multilinestring_begin(size: usize, idx: usize);
        multilinestring_end(idx: usize);
        polygon_begin(tagged: bool, size: usize, idx: usize);
        polygon_end(tagged: bool, idx: usize);
        multipolygon_begin(size: usize, idx: usize);
        multipolygon_end(idx: usize);
        circularstring_begin(size: usize, idx: usize);
        circularstring_end(idx: usize);
        compoundcurve_begin(size: usize, idx: usize);
        compoundcurve_end(idx: usize);
        curvepolygon_begin(size: usize, idx: usize);
        curvepolygon_end(idx: usize);
        multicurve_begin(size: usize, idx: usize);
        multicurve_end(idx: usize);
        multisurface_begin(size: usize, idx: usize);
        multisurface_end(idx: usize);
        triangle_begin(tagged: bool, size: usize, idx: usize);
        triangle_end(tagged: bool, idx: usize);
        polyhedralsurface_begin(size: usize, idx: usize);
        polyhedralsurface_end(idx: usize);
        tin_begin(size: usize, idx: usize);
        tin_end(idx: usize);
    }
}

/// Hex EWKB → 2D EWKT through geozero (the SRID, when present, becomes the `SRID=n;` prefix), and
/// whether the EWKB had Z or M coordinates.
fn ewkb_to_ewkt(hex: &str) -> ValueResult<(String, bool)> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid_wkt("not hexadecimal EWKB"))?;
    let mut out = Vec::new();
    let mut guard = NestingGuard {
        writer: WktWriter::with_opts(&mut out, WktDialect::Ewkt, CoordDimensions::xy(), None),
        collections: 0,
        z_or_m: false,
    };
    let read = geozero::wkb::process_ewkb_geom(&mut bytes.as_slice(), &mut guard);
    if guard.collections > MAX_NESTING {
        return Err(too_deep());
    }
    read.map_err(|e| invalid_wkt(format!("unreadable hex EWKB: {e}")))?;
    let z_or_m = guard.z_or_m;
    drop(guard);
    let text = String::from_utf8(out).map_err(|_| invalid_wkt("unreadable hex EWKB"))?;
    Ok((text, z_or_m))
}

fn check_ewkt(text: &str) -> ValueResult<GeometryFacts> {
    let (srid, wkt_text) = match text.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("SRID=") => {
            let (srid, rest) = text[5..]
                .split_once(';')
                .ok_or_else(|| invalid_wkt("expected SRID=<number>;<WKT>"))?;
            let srid = srid
                .trim()
                .parse::<i32>()
                .map_err(|_| invalid_wkt("the SRID is not a number"))?;
            (Some(srid), rest)
        }
        _ => (None, text),
    };
    if wkt_nesting(wkt_text) > MAX_NESTING {
        return Err(too_deep());
    }
    let geometry = wkt::Wkt::<f64>::from_str(wkt_text.trim())
        .map_err(|e| invalid_wkt(format!("unreadable WKT: {e}")))?;
    check_structure(&geometry)?;
    if is_empty(&geometry) {
        return Err(invalid_geometry(
            "the geometry is empty: it locates nothing (leave geom empty and give code_area_attachment instead)",
        ));
    }
    Ok(GeometryFacts {
        srid,
        z_or_m: geometry.dimension() != wkt::types::Dimension::XY,
    })
}

/// No coordinates at all (`POINT EMPTY`, `GEOMETRYCOLLECTION(POLYGON EMPTY)`, hex EWKB NaN points).
fn is_empty(geometry: &wkt::Wkt<f64>) -> bool {
    use wkt::Wkt;
    match geometry {
        Wkt::Point(p) => p.coord().is_none(),
        Wkt::LineString(l) => l.coords().is_empty(),
        Wkt::Polygon(p) => p.rings().iter().all(|r| r.coords().is_empty()),
        Wkt::MultiPoint(m) => m.points().iter().all(|p| p.coord().is_none()),
        Wkt::MultiLineString(m) => m.line_strings().iter().all(|l| l.coords().is_empty()),
        Wkt::MultiPolygon(m) => m
            .polygons()
            .iter()
            .all(|p| p.rings().iter().all(|r| r.coords().is_empty())),
        Wkt::GeometryCollection(c) => c.geometries().iter().all(is_empty),
    }
}

/// What PostGIS refuses when reading: too few points, unclosed rings, non-finite coordinates.
fn check_structure(geometry: &wkt::Wkt<f64>) -> ValueResult<()> {
    use wkt::Wkt;
    match geometry {
        Wkt::Point(p) => p.coord().map_or(Ok(()), check_coord),
        Wkt::LineString(l) => check_line(l.coords()),
        Wkt::Polygon(p) => p.rings().iter().try_for_each(|r| check_ring(r.coords())),
        Wkt::MultiPoint(m) => m
            .points()
            .iter()
            .try_for_each(|p| p.coord().map_or(Ok(()), check_coord)),
        Wkt::MultiLineString(m) => m
            .line_strings()
            .iter()
            .try_for_each(|l| check_line(l.coords())),
        Wkt::MultiPolygon(m) => m
            .polygons()
            .iter()
            .try_for_each(|p| p.rings().iter().try_for_each(|r| check_ring(r.coords()))),
        Wkt::GeometryCollection(c) => c.geometries().iter().try_for_each(check_structure),
    }
}

fn check_coord(c: &wkt::types::Coord<f64>) -> ValueResult<()> {
    if c.x.is_finite() && c.y.is_finite() {
        Ok(())
    } else {
        Err(invalid_geometry("a coordinate is not a finite number"))
    }
}

fn check_line(coords: &[wkt::types::Coord<f64>]) -> ValueResult<()> {
    if coords.len() == 1 {
        return Err(invalid_geometry("a line needs at least 2 points"));
    }
    coords.iter().try_for_each(check_coord)
}

fn check_ring(coords: &[wkt::types::Coord<f64>]) -> ValueResult<()> {
    if coords.is_empty() {
        return Ok(());
    }
    if coords.len() < 4 {
        return Err(invalid_geometry("a polygon ring needs at least 4 points"));
    }
    let (first, last) = (&coords[0], &coords[coords.len() - 1]);
    if first.x != last.x || first.y != last.y {
        return Err(invalid_geometry("a polygon ring is not closed"));
    }
    coords.iter().try_for_each(check_coord)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spellings_are_accepted() {
        let srid = |text: &str| check_geometry(text).unwrap().srid;
        assert_eq!(srid("SRID=2154;POINT(959204.517 6405928.812)"), Some(2154));
        assert_eq!(
            srid("srid=4326;POLYGON((6 44,6.1 44,6.1 44.1,6 44.1,6 44))"),
            Some(4326)
        );
        assert_eq!(srid("POINT(1 2)"), None);
        // A real CEN PACA geometry: hex EWKB, SRID 2154.
        assert_eq!(
            srid("01010000206A080000B81E85EBCB61294148E17AA487FC5741"),
            Some(2154)
        );
        assert_eq!(
            srid("SRID=2154;MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))"),
            Some(2154)
        );
        assert!(check_geometry("GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))").is_ok());
    }

    /// Nested collections, as WKT and as hex EWKB (with a point inside).
    fn nested_wkt(depth: usize) -> String {
        format!(
            "{}POINT(1 2){}",
            "GEOMETRYCOLLECTION(".repeat(depth),
            ")".repeat(depth)
        )
    }

    fn nested_ewkb(depth: usize) -> String {
        "010700000001000000".repeat(depth) + "0101000000000000000000F03F0000000000000040"
    }

    /// A hostile depth is a row problem, not a stack overflow (which would abort the backend):
    /// this runs on a test thread's 2 MB stack, the size of the staging thread's default.
    #[test]
    fn deep_nesting_is_refused_before_any_parser_recurses() {
        // 31 collections around a point: 32 levels of parentheses.
        assert!(check_geometry(&nested_wkt(MAX_NESTING - 1)).is_ok());
        assert!(check_geometry(&nested_ewkb(MAX_NESTING - 1)).is_ok());
        let collections = MAX_NESTING - 3;
        let multipolygon = format!(
            "SRID=2154;{}MULTIPOLYGON(((0 0,1 0,1 1,0 0))){}",
            "GEOMETRYCOLLECTION(".repeat(collections),
            ")".repeat(collections)
        );
        assert!(check_geometry(&multipolygon).is_ok());
        let one_more =
            multipolygon.replacen("SRID=2154;", "SRID=2154;GEOMETRYCOLLECTION(", 1) + ")";
        assert!(check_geometry(&one_more).is_err());
        for depth in [MAX_NESTING, 10_000, 200_000] {
            for text in [nested_wkt(depth), nested_ewkb(depth)] {
                let e = check_geometry(&text).unwrap_err();
                assert_eq!(e.code, "INVALID_WKT");
                assert_eq!(
                    e.message, "geometry nested deeper than 32 levels",
                    "depth {depth}"
                );
            }
        }
    }

    #[test]
    fn z_and_m_coordinates_are_noticed_in_every_spelling() {
        let z_or_m = |text: &str| check_geometry(text).unwrap().z_or_m;
        assert!(!z_or_m("SRID=2154;POINT(1 2)"));
        assert!(z_or_m("SRID=2154;POINT Z(1 2 3)"));
        assert!(z_or_m("POINT M(1 2 3)"));
        assert!(z_or_m("LINESTRING ZM(1 2 3 4,5 6 7 8)"));
        // SRID=2154;POINT Z(1 2 3) and POINT(1 2) as hex EWKB.
        assert!(z_or_m(
            "01010000A06A080000000000000000F03F00000000000000400000000000000840"
        ));
        assert!(!z_or_m("0101000000000000000000F03F0000000000000040"));
    }

    #[test]
    fn unreadable_text_is_invalid_wkt() {
        for bad in [
            "POINT(1)",
            "SRID=2154;PONT(1 2)",
            "SRID=abc;POINT(1 2)",
            "SRID=2154 POINT(1 2)",
            "01010000206A080000B81E85",
            "",
        ] {
            assert_eq!(
                check_geometry(bad).unwrap_err().code,
                "INVALID_WKT",
                "{bad}"
            );
        }
    }

    #[test]
    fn what_postgis_refuses_is_invalid_geometry() {
        for bad in [
            "POLYGON((0 0,1 0,1 1,0 0.5))",
            "POLYGON((0 0,1 0,0 0))",
            "LINESTRING(1 1)",
            "POINT EMPTY",
            "SRID=2154;POLYGON EMPTY",
            "GEOMETRYCOLLECTION(POINT EMPTY,LINESTRING EMPTY)",
            // POINT EMPTY as PostGIS writes it in hex EWKB: NaN coordinates, SRID 4326.
            "0101000020E6100000000000000000F87F000000000000F87F",
        ] {
            assert_eq!(
                check_geometry(bad).unwrap_err().code,
                "INVALID_GEOMETRY",
                "{bad}"
            );
        }
    }
}
