#pragma once
/// An owning wrapper for HDF5 identifiers, so a throw never leaks an open file, dataset or property list.
#include <hdf5.h>

#include <utility>

namespace vigie::store {

/// Owns one hid_t and closes it with the matching H5xclose when destroyed.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  H5Handle() = default;
  /// Takes ownership of `id`; `closer` is the H5xclose function for its kind.
  H5Handle(hid_t id, Closer closer) : m_id(id), m_close(closer) {}
  ~H5Handle() { reset(); }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  H5Handle(H5Handle&& other) noexcept
      : m_id(std::exchange(other.m_id, H5I_INVALID_HID)), m_close(other.m_close) {}
  H5Handle& operator=(H5Handle&& other) noexcept {
    if (this != &other) {
      reset();
      m_id = std::exchange(other.m_id, H5I_INVALID_HID);
      m_close = other.m_close;
    }
    return *this;
  }

  /// Handle of a file.
  static H5Handle file(hid_t id) { return {id, H5Fclose}; }
  /// Handle of a group.
  static H5Handle group(hid_t id) { return {id, H5Gclose}; }
  /// Handle of a dataset.
  static H5Handle dataset(hid_t id) { return {id, H5Dclose}; }
  /// Handle of a dataspace.
  static H5Handle dataspace(hid_t id) { return {id, H5Sclose}; }
  /// Handle of a datatype.
  static H5Handle datatype(hid_t id) { return {id, H5Tclose}; }
  /// Handle of a property list.
  static H5Handle plist(hid_t id) { return {id, H5Pclose}; }
  /// Handle of an attribute.
  static H5Handle attribute(hid_t id) { return {id, H5Aclose}; }

  [[nodiscard]] hid_t get() const { return m_id; }
  [[nodiscard]] explicit operator bool() const { return m_id >= 0; }

  /// Closes now and returns the close function's status, for callers that must know it failed.
  herr_t close() {
    herr_t status = 0;
    if (m_id >= 0 && m_close != nullptr) status = m_close(m_id);
    m_id = H5I_INVALID_HID;
    return status;
  }
  /// Gives up ownership without closing (used when closing would need ranks that may not be there).
  hid_t release() { return std::exchange(m_id, H5I_INVALID_HID); }

 private:
  void reset() noexcept {
    if (m_id >= 0 && m_close != nullptr) m_close(m_id);
    m_id = H5I_INVALID_HID;
  }

  hid_t m_id = H5I_INVALID_HID;
  Closer m_close = nullptr;
};

}  // namespace vigie::store
