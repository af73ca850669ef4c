#include "store/Xdmf.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/Error.hpp"

namespace vigie::store {

namespace {

// Shortest text that reads back to the same double, so the sidecar's origin matches the HDF5 attributes
// exactly.
std::string number(double v) {
  std::array<char, 32> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return {buf.data(), res.ptr};
}

std::string escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void meshXml(std::ostringstream& os, const GridGeometry& g, const std::string& indent) {
  // CoRectMesh dimensions, origin and spacing list the slowest axis first: (y, x).
  os << indent << "<Topology TopologyType=\"2DCoRectMesh\" Dimensions=\"" << g.ny + 1 << ' ' << g.nx + 1
     << "\"/>\n"
     << indent << "<Geometry GeometryType=\"ORIGIN_DXDY\">\n"
     << indent << "  <DataItem Name=\"Origin\" Dimensions=\"2\" NumberType=\"Float\" Precision=\"8\" "
     << "Format=\"XML\">" << number(g.y0) << ' ' << number(g.x0) << "</DataItem>\n"
     << indent << "  <DataItem Name=\"Spacing\" Dimensions=\"2\" NumberType=\"Float\" Precision=\"8\" "
     << "Format=\"XML\">" << number(g.cell_m) << ' ' << number(g.cell_m) << "</DataItem>\n"
     << indent << "</Geometry>\n";
}

std::string datasetPath(const XdmfField& f) {
  return escaped(f.path.empty() ? "/fields/" + f.name : f.path);
}

std::string typeXml(const XdmfField& f) {
  return "NumberType=\"" + f.number_type + "\" Precision=\"" + std::to_string(f.precision) + "\"";
}

}  // namespace

std::string xdmfDocument(const std::string& h5_name, const GridGeometry& g,
                         const std::vector<XdmfField>& fields) {
  const std::string file = escaped(h5_name);
  const std::string plane = std::to_string(g.ny) + ' ' + std::to_string(g.nx);
  std::ostringstream os;
  os << "<?xml version=\"1.0\" ?>\n"
     << "<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
     << "<Xdmf Version=\"3.0\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
     << "  <Domain>\n";

  bool has_2d = false;
  int nt_max = 0;
  for (const auto& f : fields) {
    if (f.nt == 0) has_2d = true;
    nt_max = std::max(nt_max, f.nt);
  }

  if (has_2d) {
    os << "    <Grid Name=\"fields\" GridType=\"Uniform\">\n";
    meshXml(os, g, "      ");
    for (const auto& f : fields) {
      if (f.nt != 0) continue;
      os << "      <Attribute Name=\"" << escaped(f.name) << "\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
         << "        <DataItem Dimensions=\"" << plane << "\" " << typeXml(f) << " Format=\"HDF\">" << file
         << ':' << datasetPath(f) << "</DataItem>\n"
         << "      </Attribute>\n";
    }
    os << "    </Grid>\n";
  }

  if (nt_max > 0) {
    os << "    <Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    for (int t = 0; t < nt_max; ++t) {
      os << "      <Grid Name=\"t" << t << "\" GridType=\"Uniform\">\n"
         << "        <Time Value=\"" << t << "\"/>\n";
      meshXml(os, g, "        ");
      for (const auto& f : fields) {
        if (t >= f.nt) continue;
        // Start, stride and count rows of the [nt][ny][nx] dataset select the plane t.
        os << "        <Attribute Name=\"" << escaped(f.name)
           << "\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
           << "          <DataItem ItemType=\"HyperSlab\" Dimensions=\"1 " << plane
           << "\" Type=\"HyperSlab\">\n"
           << "            <DataItem Dimensions=\"3 3\" Format=\"XML\">" << t << " 0 0 1 1 1 1 " << plane
           << "</DataItem>\n"
           << "            <DataItem Dimensions=\"" << f.nt << ' ' << plane << "\" " << typeXml(f)
           << " Format=\"HDF\">" << file << ':' << datasetPath(f) << "</DataItem>\n"
           << "          </DataItem>\n"
           << "        </Attribute>\n";
      }
      os << "      </Grid>\n";
    }
    os << "    </Grid>\n";
  }

  os << "  </Domain>\n"
     << "</Xdmf>\n";
  return os.str();
}

void writeXdmf(const std::filesystem::path& xmf_path, const std::string& h5_name, const GridGeometry& g,
               const std::vector<XdmfField>& fields) {
  auto temp = xmf_path;
  temp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << xdmfDocument(h5_name, g, fields);
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw core::Error(core::ExitCode::Io, temp.string() + ": cannot write the XDMF sidecar");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, xmf_path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw core::Error(
        core::ExitCode::Io,
        xmf_path.string() + ": cannot rename the XDMF sidecar into place (" + ec.message() + ")");
  }
}

}  // namespace vigie::store
