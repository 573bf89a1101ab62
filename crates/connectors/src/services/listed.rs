//! Services shown in the catalog so people see what is coming; none can provision yet.
//! One that gains a connector moves into a module of its own.

use crate::vendor::VendorModule;

pub(crate) const SALESFORCE: VendorModule = VendorModule::listed_only("salesforce", "Salesforce");
pub(crate) const DROPBOX: VendorModule = VendorModule::listed_only("dropbox", "Dropbox Business");
pub(crate) const NOTION: VendorModule = VendorModule::listed_only("notion", "Notion");
